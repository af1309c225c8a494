//! One stream's receive task (the hot path): an RTP socket latched to its first
//! source, the jitter/loss receiver, DTMF detection, and encrypted chunks handed to
//! the spool once the consent gate is open. It never waits on the catalog.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use media::{AudioCodec, FrameBatch, InbandDetector, ReceiverConfig, RtpPacket, StreamReceiver, TelephoneEventTracker};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use crate::consent::DigitSource;

/// Gate state shared by the controller and the stream tasks.
#[derive(Debug)]
pub struct SharedGate {
    /// Milliseconds since answer from which audio may be written; `u64::MAX` while not open.
    open_since_ms: AtomicU64,
}

impl SharedGate {
    pub fn new() -> Self {
        SharedGate {
            open_since_ms: AtomicU64::new(u64::MAX),
        }
    }

    pub fn open(&self, since_ms: u64) {
        self.open_since_ms.store(since_ms, Ordering::SeqCst);
    }

    fn allows(&self, at_ms: u64) -> bool {
        at_ms >= self.open_since_ms.load(Ordering::Relaxed)
    }
}

impl Default for SharedGate {
    fn default() -> Self {
        Self::new()
    }
}

/// What a stream task tells the call's controller.
#[derive(Debug)]
pub enum StreamNews {
    Digit {
        stream: usize,
        digit: char,
        at_ms: u64,
        source: DigitSource,
    },
}

/// Commands for a stream task.
pub enum StreamCommand {
    /// Audio may now be written through this writer.
    Writer(Box<vault::SpoolWriter>),
    /// The call ended: flush and return.
    Stop,
}

/// What a finished stream task hands back.
pub struct StreamResult {
    pub writer: Option<vault::SpoolWriter>,
    pub packets: u64,
    pub lost: u64,
    pub foreign_source_dropped: u64,
    /// Packets that arrived while the stream was paused (not stored).
    pub paused_dropped: u64,
    /// Arrival of the first and the last packet, in ms since answer.
    pub first_ms: Option<u64>,
    pub last_ms: u64,
}

/// The parameters of one stream task.
pub struct StreamTask {
    pub index: usize,
    pub socket: UdpSocket,
    pub codec: AudioCodec,
    pub payload_type: u8,
    pub telephone_event_pt: Option<u8>,
    /// Digits count only on the customer's stream.
    pub customer: bool,
    pub answered: Instant,
    pub gate: Arc<SharedGate>,
    /// Milliseconds since answer of the last packet (for the inactivity timeout).
    pub last_packet_ms: Arc<AtomicU64>,
    /// The stream is paused (`a=inactive`): packets are counted and dropped.
    pub paused: Arc<std::sync::atomic::AtomicBool>,
    pub news: mpsc::UnboundedSender<StreamNews>,
    pub commands: mpsc::UnboundedReceiver<StreamCommand>,
}

/// How much closed-gate audio a stream holds in memory (never on disk).
const HELD_MS: u64 = 2000;

fn bytes_per_second(codec: AudioCodec) -> usize {
    match codec {
        AudioCodec::Pcmu | AudioCodec::Pcma | AudioCodec::G722 => 8000,
        _ => 16_000,
    }
}

impl StreamTask {
    /// Runs until `Stop`.
    pub async fn run(mut self) -> StreamResult {
        let mut receiver = StreamReceiver::new(ReceiverConfig::new(self.codec, self.payload_type));
        let mut tracker = TelephoneEventTracker::new(self.codec.rtp_clock_rate());
        let mut inband = InbandDetector::with_sample_rate(8000);
        let mut inband_digits = Vec::new();
        let mut batch = FrameBatch::new();
        let mut chunk: Vec<u8> = Vec::with_capacity(bytes_per_second(self.codec) + 1024);
        let mut writer: Option<vault::SpoolWriter> = None;
        // Audio that arrived while the gate was closed, kept in memory only (at most
        // HELD_MS) so that what follows a consent digit is not lost while the
        // controller opens the recording.
        let mut held: std::collections::VecDeque<(u64, Vec<u8>)> = std::collections::VecDeque::new();
        let mut latched: Option<SocketAddr> = None;
        let mut foreign = 0u64;
        let mut packets = 0u64;
        let mut paused_dropped = 0u64;
        let mut buf = vec![0u8; 2048];
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(100));
        let inband_wanted = self.customer && self.codec.rtp_clock_rate() == 8000;
        loop {
            tokio::select! {
                received = self.socket.recv_from(&mut buf) => {
                    let Ok((len, from)) = received else { continue };
                    match latched {
                        None => latched = Some(from),
                        Some(source) if source != from => { foreign += 1; continue; }
                        Some(_) => {}
                    }
                    let now_ms = self.answered.elapsed().as_millis() as u64;
                    self.last_packet_ms.store(now_ms, Ordering::Relaxed);
                    if self.paused.load(Ordering::Relaxed) {
                        paused_dropped += 1;
                        continue;
                    }
                    let Ok(packet) = RtpPacket::parse(&buf[..len]) else { continue };
                    packets += 1;
                    if Some(packet.payload_type) == self.telephone_event_pt
                        && let Ok(Some(event)) = tracker.push(&packet)
                        && self.customer
                    {
                        let _ = self.news.send(StreamNews::Digit {
                            stream: self.index, digit: event.digit.as_char(), at_ms: now_ms, source: DigitSource::TelephoneEvent,
                        });
                    }
                    receiver.push(&packet, now_ms);
                }
                _ = tick.tick() => {
                    let now_ms = self.answered.elapsed().as_millis() as u64;
                    receiver.drain_ready_into(now_ms, &mut batch);
                    self.take_frames(&receiver, &batch, &mut chunk, &mut held, inband_wanted.then_some((&mut inband, &mut inband_digits)));
                }
                command = self.commands.recv() => match command {
                    Some(StreamCommand::Writer(w)) => {
                        writer = Some(*w);
                        let mut kept: Vec<u8> = held.drain(..).filter(|(at, _)| self.gate.allows(*at)).flat_map(|(_, b)| b).collect();
                        kept.append(&mut chunk);
                        chunk = kept;
                    }
                    Some(StreamCommand::Stop) | None => break,
                }
            }
            if chunk.len() >= bytes_per_second(self.codec)
                && let Some(w) = writer.as_mut()
            {
                if let Err(err) = w.append(&chunk) {
                    tracing::error!(stream = self.index, "spool append failed: {err}");
                }
                chunk.clear();
            }
        }
        receiver.flush_into(&mut batch);
        self.take_frames(&receiver, &batch, &mut chunk, &mut held, None);
        if !chunk.is_empty()
            && let Some(w) = writer.as_mut()
            && let Err(err) = w.append(&chunk)
        {
            tracing::error!(stream = self.index, "spool append failed: {err}");
        }
        let stats = receiver.stats();
        StreamResult {
            writer,
            packets,
            lost: stats.lost,
            foreign_source_dropped: foreign,
            paused_dropped,
            first_ms: receiver.first_arrival_ms(),
            last_ms: self.last_packet_ms.load(Ordering::Relaxed),
        }
    }

    /// Keeps the frames the gate allows; while it is closed, holds the last moments in
    /// memory and feeds in-band detection.
    fn take_frames(
        &self,
        receiver: &StreamReceiver,
        batch: &FrameBatch,
        chunk: &mut Vec<u8>,
        held: &mut std::collections::VecDeque<(u64, Vec<u8>)>,
        mut inband: Option<(&mut InbandDetector, &mut Vec<media::InbandDigit>)>,
    ) {
        let first = receiver.first_arrival_ms().unwrap_or(0);
        for frame in batch.iter() {
            let at_ms = first + receiver.ticks_to_ms(frame.timeline);
            if self.gate.allows(at_ms) {
                chunk.extend_from_slice(frame.payload);
                continue;
            }
            held.push_back((at_ms, frame.payload.to_vec()));
            while held.front().is_some_and(|(t, _)| at_ms.saturating_sub(*t) > HELD_MS) {
                held.pop_front();
            }
            if let Some((detector, digits)) = inband.as_mut() {
                let samples = match self.codec {
                    AudioCodec::Pcmu => media::decode_to_pcm16(media::SampleEncoding::MuLaw, frame.payload),
                    AudioCodec::Pcma => media::decode_to_pcm16(media::SampleEncoding::ALaw, frame.payload),
                    _ => Vec::new(),
                };
                digits.clear();
                detector.process(&samples, digits);
                for digit in digits.iter() {
                    let _ = self.news.send(StreamNews::Digit {
                        stream: self.index,
                        digit: digit.digit.as_char(),
                        at_ms: first + digit.end_sample / 8,
                        source: DigitSource::InBand,
                    });
                }
            }
        }
    }
}
